// A small glog-flavoured logger: one line per event on stderr, level filtered by MESETA_LOG / --logging_level.

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
const ORDER: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

let threshold: LogLevel = (process.env.MESETA_LOG?.toUpperCase() as LogLevel) in ORDER
  ? (process.env.MESETA_LOG!.toUpperCase() as LogLevel)
  : 'INFO';

export function setLogLevel(level: string): void {
  const l = level.toUpperCase() as LogLevel;
  if (l in ORDER) threshold = l;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function logger(component: string): Logger {
  const write = (level: LogLevel, msg: string) => {
    if (ORDER[level] < ORDER[threshold]) return;
    process.stderr.write(`${level[0]}${new Date().toISOString()} ${process.pid} ${component}] ${msg}\n`);
  };
  return {
    debug: (m) => write('DEBUG', m),
    info: (m) => write('INFO', m),
    warn: (m) => write('WARNING', m),
    error: (m) => write('ERROR', m),
  };
}
