// startNatsServer is a feature of the main entry (verdict up and the experiment start one): a real
// nats-server with JetStream on a free loopback port, stopped once, its temp store removed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectNats, startNatsServer } from '../src/index.js';

describe('startNatsServer (main entry)', () => {
  it('serves JetStream at once; stop() is idempotent and removes the temp store it made', async () => {
    const server = await startNatsServer();
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const messaging = await connectNats({ servers: server.url, name: 'nats-server-test' });
    await messaging.ensureStream({ name: 'READY', subjects: ['ready.>'] });
    assert.equal((await messaging.publish('ready.x', 'ok')).seq, 1);
    await messaging.close();
    assert.ok(existsSync(server.storeDir));
    await server.stop();
    await server.stop();
    assert.equal(existsSync(server.storeDir), false);
  });

  it("keeps a caller's store folder: data survives a new server on it", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'verdict-nats-store-'));
    try {
      const first = await startNatsServer({ storeDir });
      let m = await connectNats({ servers: first.url, name: 'nats-server-test' });
      await m.ensureStream({ name: 'KEPT', subjects: ['kept.>'] });
      await m.publish('kept.x', 'one');
      await m.close();
      await first.stop();
      assert.ok(existsSync(storeDir));
      const second = await startNatsServer({ storeDir });
      m = await connectNats({ servers: second.url, name: 'nats-server-test' });
      assert.equal((await m.publish('kept.x', 'two')).seq, 2);
      await m.close();
      await second.stop();
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }
  });
});
