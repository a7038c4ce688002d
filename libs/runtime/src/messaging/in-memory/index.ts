export {
  createInMemoryBroker,
  disposeInMemoryBroker,
  getInMemoryBroker,
  type InMemoryBroker,
} from './broker.js';
export { connectInMemory, type InMemoryConnectOptions } from './memory-messaging.js';
export { subjectMatches } from './subjects.js';
