import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import { replicas, sleep, startEcho, startProxy, table, type Echo } from './support.ts';

describe('proxy: load balancing across ready members', () => {
  const upstreams: Echo[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      upstreams.push(
        await startEcho(async (req, res) => {
          if (req.url?.startsWith('/slow')) await sleep(800);
          res.end(String(i));
        }),
      );
    }
  });
  afterAll(async () => {
    for (const echo of upstreams) await echo.close();
  });

  it('round_robin spreads requests evenly over the ready members, in turn', async () => {
    const gh = await startProxy({ table: table(...replicas(upstreams.map((u) => u.origin))) });
    try {
      const answers: string[] = [];
      for (let i = 0; i < 9; i++) answers.push((await http(gh.port, 'app.test', '/')).body);
      expect(answers.slice(0, 3).sort()).toEqual(['0', '1', '2']);
      expect(answers.slice(3, 6)).toEqual(answers.slice(0, 3));
      expect(answers.slice(6, 9)).toEqual(answers.slice(0, 3));
    } finally {
      await gh.close();
    }
  });

  it('never sends traffic to members that are not ready', async () => {
    const specs = replicas(upstreams.map((u) => u.origin));
    const notReady = { ...(specs[1] as (typeof specs)[number]) };
    notReady.upstream = { ...notReady.upstream, ready: false, state: 'starting' };
    const gh = await startProxy({ table: table(specs[0]!, notReady, specs[2]!) });
    try {
      const answers = new Set<string>();
      for (let i = 0; i < 6; i++) answers.add((await http(gh.port, 'app.test', '/')).body);
      expect([...answers].sort()).toEqual(['0', '2']);
    } finally {
      await gh.close();
    }
  });

  it('least_request sends new requests to the members with fewest in flight', async () => {
    const gh = await startProxy({ table: table(...replicas(upstreams.map((u) => u.origin), { lb: 'least_request' })) });
    try {
      // Two slow requests occupy two members; the next quick ones must all go to the third.
      const slowOnes = [http(gh.port, 'app.test', '/slow'), http(gh.port, 'app.test', '/slow')];
      await sleep(100);
      const quick: string[] = [];
      for (let i = 0; i < 4; i++) quick.push((await http(gh.port, 'app.test', '/')).body);
      const busy = (await Promise.all(slowOnes)).map((r) => r.body);
      expect(new Set(busy).size).toBe(2);
      const idle = ['0', '1', '2'].find((id) => !busy.includes(id));
      expect(quick).toEqual([idle, idle, idle, idle]);
    } finally {
      await gh.close();
    }
  });
});
