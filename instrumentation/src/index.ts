export * from './attributes.js';
export * from './conventions.js';
