/**
 * `npm run stack`: the whole system on this machine, without Docker, at http://localhost:3000
 * (STACK_PORT to change it) until Ctrl-C. COMPANY_QUEUES_DURABLE=false runs it in the compatibility
 * mode for the course's original programs (non-durable company queues).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackConfig } from './config.js';
import { LocalStack } from './local-stack.js';
import { setInterruptHandler } from './process.js';

const {
  STACK_PORT: port,
  STACK_LIVEVIEWS: liveviews,
  STACK_CONSUMERS: consumers,
  STACK_BROKERS: brokers,
  COMPANY_QUEUES_DURABLE: companyQueuesDurable,
} = stackConfig;

console.log('starting RabbitMQ, FerretDB, consumer, liveview x%d, NGINX, publisher…', liveviews);
const stack = await LocalStack.start({ port, liveviews, consumers, brokers, companyQueuesDurable });
setInterruptHandler(async () => {
  console.log('\nstopping…');
  await stack.stop();
});
// This run's passwords are random (no known password, as in compose): the admin's in a file only
// its owner reads, for the management tools, never on the console.
const adminPasswordFile = join(stack.rabbitmq.dir, 'admin-password');
writeFileSync(adminPasswordFile, `${stack.rabbitmq.password('admin')}\n`, { mode: 0o600 });
console.log(`
stockmarket is running: http://localhost:${port}

${(stack.cluster?.nodes ?? [stack.rabbitmq]).map((node) => `  RabbitMQ   amqp://127.0.0.1:${node.port}/stockmarket  (data: ${node.dir})`).join('\n')}
             users admin, publisher, consumer, liveview: random passwords of this run; admin's: cat ${adminPasswordFile}
             company queues ${companyQueuesDurable ? (stack.cluster ? 'quorum' : 'durable') : 'non-durable (COMPANY_QUEUES_DURABLE=false)'}
  FerretDB   ${stack.mongo.url}  (data: ${stack.mongo.dir})
  liveview   ${stack.liveviews.map((liveview) => liveview.url).join('  ')}
  consumer   ${stack.consumers.map((consumer) => `${consumer.url}/metrics`).join('  ')}
  publisher  ${stack.publisher?.url}/metrics

Ctrl-C stops everything.`);
