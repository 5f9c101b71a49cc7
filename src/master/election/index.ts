// Leader election for masters and leader detection for everyone (FT-01).
export * from './master-info.js';
export * from './group.js';
export * from './contender.js';
export * from './detector.js';
export * from './ha.js';
