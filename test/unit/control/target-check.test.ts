import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTableBuilder, createTargetCheck, createTargetRules, listenerEndpoints, type ResolveAll } from '../../../src/control/index.ts';
import { parseOrigin, urlOrigin } from '../../../src/control/target-check.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { matchClaim } from '../../../src/routes/index.ts';
import { container, listing, OPTIONS } from '../labels/containers.ts';

const translate = (l: Parameters<typeof translateContainers>[0]) => translateContainers(l, OPTIONS);

function resolver() {
  const answers = new Map<string, string[]>();
  let calls = 0;
  const resolveAll: ResolveAll = async (hostname) => {
    calls++;
    const found = answers.get(hostname);
    if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { answers, resolveAll, calls: () => calls };
}

describe('createTargetCheck', () => {
  it('resolves a name in the background, then refuses it once any answer is forbidden, and asks for a rebuild on each new answer', async () => {
    const dns = resolver();
    dns.answers.set('nas.lan', ['192.168.1.20', '127.0.0.1']);
    let changes = 0;
    let clock = 0;
    const check = createTargetCheck({ rules: createTargetRules().current, resolveAll: dns.resolveAll, onChange: () => changes++, now: () => clock, refreshMs: 1000 });
    expect(check.reasonFor('http://nas.lan:5000')).toBeNull();
    await check.settled();
    expect(changes).toBe(1);
    expect(check.reasonFor('http://nas.lan:5000')).toBe('nas.lan resolves to 127.0.0.1, the loopback interface');
    expect(dns.calls()).toBe(1);

    dns.answers.set('nas.lan', ['192.168.1.20']);
    clock = 2000;
    expect(check.reasonFor('http://nas.lan:5000')).not.toBeNull();
    await check.settled();
    expect(changes).toBe(2);
    expect(check.reasonFor('http://nas.lan:5000')).toBeNull();
  });

  it('checks literals at once against the current rules, own endpoints included', () => {
    const rules = createTargetRules({ allow: ['127.0.0.0/8'] });
    const check = createTargetCheck({ rules: rules.current, resolveAll: resolver().resolveAll, onChange: () => {}, now: () => 0 });
    expect(check.reasonFor('http://127.0.0.1:9090')).toBeNull();
    rules.setOwn('listeners', listenerEndpoints([{ host: '0.0.0.0', port: 9090, what: "Gatehouse's admin listener" }], ['127.0.0.1', '192.168.1.10']));
    expect(check.reasonFor('http://127.0.0.1:9090')).toBe("Gatehouse's admin listener");
    expect(check.reasonFor('http://192.168.1.10:9090')).toBe("Gatehouse's admin listener");
    expect(check.reasonFor('http://192.168.1.10:8080')).toBeNull();
    expect(check.reasonFor('http://[::ffff:192.168.1.10]:9090')).toBe("Gatehouse's admin listener");
  });
});

const read = (parse: typeof parseOrigin) => (origin: string) => {
  const parsed = parse(origin);
  return parsed === null ? null : { hostname: parsed.hostname, port: parsed.port, literal: parsed.literal };
};
const parts = read(parseOrigin);
/** The origin as the WHATWG URL parser reads it: what parseOrigin's quick read must agree with. */
const urlRead = read(urlOrigin);

describe('parseOrigin', () => {
  it('reads every origin to the host and port the URL parser gives, disguised addresses included', () => {
    for (const origin of [
      'http://172.17.0.2:8080',
      'https://10.0.0.1:443',
      'http://10.0.0.1:80',
      'http://0.0.0.0:1',
      'http://255.255.255.255:65535',
      'http://127.1:8080',
      'http://0x7f.0.0.1:8080',
      'http://017.0.0.1:8080',
      'http://127.0.0.01:8080',
      'http://256.0.0.1:8080',
      'http://1.2.3.4:65536',
      'http://1.2.3.4:080',
      'http://1.2.3.4:0',
      'http://1.2.3.4',
      'HTTP://1.2.3.4:8080',
      'http://1.2.3.4:8080/',
      'http://1.2.3.4.:8080',
      'http://[::1]:8080',
      'http://[::ffff:127.0.0.1]:9090',
      'http://nas.lan:5000',
      'http://user@1.2.3.4:8080',
      'http://１２７.0.0.1:8080',
      'not a url',
    ]) {
      expect(parts(origin), origin).toEqual(urlRead(origin));
    }
  });

  it('agrees with the URL parser on generated dotted addresses and ports', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '010', '0x10', '1e1', ''));
    const origin = fc
      .tuple(fc.constantFrom('http', 'https'), fc.array(part, { minLength: 3, maxLength: 5 }), fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), fc.constantFrom('08080', '')))
      .map(([scheme, address, port]) => `${scheme}://${address.join('.')}${port === '' ? '' : `:${port}`}`);
    fc.assert(
      fc.property(origin, (text) => {
        expect(parts(text)).toEqual(urlRead(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('createTableBuilder with a target check', () => {
  it('withholds a container whose upstream name resolves to loopback, keeping its address closed', async () => {
    const dns = resolver();
    dns.answers.set('sneaky.example', ['127.0.0.1']);
    const check = createTargetCheck({ rules: createTargetRules().current, resolveAll: dns.resolveAll, onChange: () => {}, now: () => 0 });
    const builder = createTableBuilder(translate, { claims: { prefix: 'iap' }, targets: check });
    const app = container({ labels: { 'iap.from': 'https://app.example', 'iap.to': 'http://sneaky.example:9090', 'iap.public': 'true' } });
    const first = builder.build(listing([app]), null);
    expect(matchClaim(first, 'app.example', '/')?.state).toBe('live');
    await check.settled();
    const second = builder.build(listing([app]), null);
    expect(matchClaim(second, 'app.example', '/metrics')?.state).toBe('misconfigured');
    expect(second.routes).toEqual([]);
    expect(second.issues).toMatchObject([{ code: 'forbidden_target', value: 'http://sneaky.example:9090' }]);
    expect(second.issues[0]?.message).toContain('sneaky.example resolves to 127.0.0.1, the loopback interface');
    expect(builder.build(listing([app]), null)).toBe(second);
  });
});
