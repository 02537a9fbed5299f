import type { CoreServices } from '../services.js';
import type { PathSpec } from '../../framework/backend.js';
import { sysData } from './respond.js';

/** The barrier's encryption key: its status and rotation (api.md §6). */
export function keyPaths(core: CoreServices): PathSpec[] {
  return [
    {
      pattern: 'key-status',
      operations: {
        read: async () => {
          const status = core.barrier.keyStatus();
          return sysData({ term: status.term, install_time: status.installTime });
        },
      },
      synopsis: 'Read the term and install time of the active encryption key.',
      description: 'Answers {"term", "install_time"}; the term goes up by one on every rotation.',
    },
    {
      pattern: 'rotate',
      operations: {
        update: async () => {
          const status = await core.barrier.rotate();
          core.logger.info('barrier key rotated', { term: status.term });
          return null;
        },
      },
      synopsis: 'Rotate the encryption key of the storage barrier.',
      description: `Adds a new key term: new writes are encrypted with it, and entries written under
older terms stay readable. Needs the root policy or sudo on sys/rotate.`,
    },
  ];
}
