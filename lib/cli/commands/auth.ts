import type { Command } from '../command.js';
import { mountCommands } from '../mount-commands.js';

export const commands: Command[] = mountCommands('auth');
