/**
 * `npm run stack`: the whole system on this machine, without Docker, at http://localhost:3000
 * (STACK_PORT to change it) until Ctrl-C. COMPANY_QUEUES_DURABLE=false runs it in the compatibility
 * mode for the course's original programs (non-durable company queues).
 */

import { stackConfig } from './config.js';
import { LocalStack } from './local-stack.js';
import { setInterruptHandler } from './process.js';

const {
  STACK_PORT: port,
  STACK_LIVEVIEWS: liveviews,
  STACK_CONSUMERS: consumers,
  COMPANY_QUEUES_DURABLE: companyQueuesDurable,
} = stackConfig;

console.log('starting RabbitMQ, FerretDB, consumer, liveview x%d, NGINX, publisher…', liveviews);
const stack = await LocalStack.start({ port, liveviews, consumers, companyQueuesDurable });
setInterruptHandler(async () => {
  console.log('\nstopping…');
  await stack.stop();
});
console.log(`
stockmarket is running: http://localhost:${port}

  RabbitMQ   amqp://127.0.0.1:${stack.rabbitmq.port}/stockmarket  (data: ${stack.rabbitmq.dir})
             company queues ${companyQueuesDurable ? 'durable' : 'non-durable (COMPANY_QUEUES_DURABLE=false)'}
  FerretDB   ${stack.mongo.url}  (data: ${stack.mongo.dir})
  liveview   ${stack.liveviews.map((liveview) => liveview.url).join('  ')}
  consumer   ${stack.consumers.map((consumer) => `${consumer.url}/metrics`).join('  ')}
  publisher  ${stack.publisher?.url}/metrics

Ctrl-C stops everything.`);
