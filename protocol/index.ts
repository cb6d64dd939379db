/** The OWP wire contract: schemas, types and error codes shared by server, plugin and clients. */
export * from './common.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './leases.ts';
export * from './repos.ts';
export * from './tasks.ts';
export * from './import-keys.ts';
export * from './workers.ts';
export * from './worker-text.ts';
export * from './audit.ts';
export * from './analytics.ts';
export * from './routes.ts';
export * from './client.ts';
export * from './api.ts';
export * from './event-stream-client.ts';
export * from './http-api.ts';
export * from './explanation-text.ts';
