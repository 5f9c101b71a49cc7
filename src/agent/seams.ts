// The parts of other components the agent core relies on. main.ts plugs in the real containerizer,
// command executor and /files; tests may plug in their own.
import type { Containerizer } from './containerizer/index.js';
import type { CommandExecutorOptions } from '../executor/command-executor.js';
import type { Msg } from './types.js';

export type ContainerizerSeam = Containerizer;
export type { CommandExecutorOptions };

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
