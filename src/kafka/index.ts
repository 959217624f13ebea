export * from './admin.js';
export * from './client.js';
export * from './producer.js';
export * from './read-topic.js';
export * from './single-assigner.js';
export * from './topics.js';
