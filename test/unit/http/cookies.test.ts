import { describe, expect, it } from 'vitest';
import { isGatehouseCookieName, setsGatehouseCookie } from '../../../src/http/index.ts';

describe('isGatehouseCookieName', () => {
  it.each(['gatehouse_session', 'Gatehouse_Session', '__Host-gatehouse_session', '__HOST-GATEHOUSE_SESSION', '__Secure-gatehouse_flow', '__secure-gatehouse_x', ' gatehouse_session'])(
    '%s is one of Gatehouse\'s',
    (name) => expect(isGatehouseCookieName(name)).toBe(true),
  );
  it.each(['session', 'my_gatehouse_session', '__Host-session', 'gatehouse-session', '__Host-other_gatehouse_'])('%s is not', (name) =>
    expect(isGatehouseCookieName(name)).toBe(false),
  );
});

describe('setsGatehouseCookie', () => {
  it.each([
    'gatehouse_session=forged; Path=/',
    '__Host-gatehouse_session=forged; Path=/; Secure',
    '__Secure-GATEHOUSE_SESSION=x',
    '  gatehouse_session =x',
    // Nameless cookies come back as their bare value: `Cookie: gatehouse_session=x`.
    '=gatehouse_session=x; Path=/',
    'gatehouse_session',
  ])('%j plants a Gatehouse cookie', (value) => expect(setsGatehouseCookie(value)).toBe(true));
  it.each(['session=1; Path=/', 'app=gatehouse_session; Path=/', 'theme=dark', '=theme'])('%j does not', (value) =>
    expect(setsGatehouseCookie(value)).toBe(false),
  );
});
