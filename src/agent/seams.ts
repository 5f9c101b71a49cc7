// The parts of other components the agent core relies on. main.ts plugs in the real command
// executor and /files; tests may plug in their own. (The containerizer is the Containerizer interface.)
import type { CommandExecutorOptions } from '../executor/command-executor.js';
import type { Msg } from './types.js';

export interface CommandExecutorSeam {
  start(): void;
  kill(killPolicy?: Msg): void;
  shutdown(): void;
  acknowledged(uuid: Buffer): void;
}

export type CommandExecutorFactory = (opts: CommandExecutorOptions) => CommandExecutorSeam;

export interface FilesSeam {
  attach(realPath: string, virtualPath: string): void;
  detach(virtualPath: string): void;
}
