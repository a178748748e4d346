import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsServicesSchema, staticTargetsSchema } from './targets.js';

test('static targets: name=url, /metrics added, role from the name', () => {
  assert.deepEqual(staticTargetsSchema.parse('consumer-1=http://127.0.0.1:9465, liveview-2=http://h:3000/metrics'), [
    { role: 'consumer', name: 'consumer-1', url: 'http://127.0.0.1:9465/metrics' },
    { role: 'liveview', name: 'liveview-2', url: 'http://h:3000/metrics' },
  ]);
  assert.equal(staticTargetsSchema.safeParse('broker=http://h:1').success, false);
  assert.equal(staticTargetsSchema.safeParse('consumer-1=ftp://h').success, false);
});

test('DNS services: host:port with the service in the host name', () => {
  assert.deepEqual(dnsServicesSchema.parse('consumer:9465,liveview:3000'), [
    { role: 'consumer', host: 'consumer', port: 9465 },
    { role: 'liveview', host: 'liveview', port: 3000 },
  ]);
  assert.equal(dnsServicesSchema.safeParse('consumer').success, false);
  assert.equal(dnsServicesSchema.safeParse('mongo:27017').success, false);
});
