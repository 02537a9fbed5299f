import { createInmemStorage } from '../../lib/storage/inmem.js';
import { exerciseStorage } from './contract.js';

exerciseStorage('inmem', async () => ({ storage: createInmemStorage(), cleanup: async () => {} }));
