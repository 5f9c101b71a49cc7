// Build facts reported by /version and /state.
import { userInfo } from 'node:os';

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'meseta';
  }
}

const started = Date.now();

export const BUILD = {
  date: new Date(started).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
  time: Math.floor(started / 1000),
  user: user(),
};
