import { describe, expect, it } from 'vitest';
import { serializedOrigin, websocketOriginAllowed } from '../../../src/proxy/ws-origin.ts';

const route = { fromScheme: 'https' as const, wsOrigins: ['https://dashboard.example.com'] };
const request = { scheme: 'https' as const, publicHost: 'app.example.com' };

describe('websocketOriginAllowed', () => {
  it('allows a handshake without Origin (not a browser)', () => {
    expect(websocketOriginAllowed(undefined, request, route)).toBe(true);
  });
  it.each(['https://app.example.com', 'HTTPS://APP.EXAMPLE.COM', 'https://app.example.com:443', 'https://dashboard.example.com'])('allows %s', (origin) => {
    expect(websocketOriginAllowed(origin, request, route)).toBe(true);
  });
  it.each([
    'null',
    'http://evil.example',
    'https://evil.app.example.com',
    'https://app.example.com.evil.example',
    'https://app.example.com:8443',
    'http://app.example.com:444',
    'https://app.example.com/path',
    'https://user@app.example.com',
    'app.example.com',
    '',
    'https://dashboard.example.com.evil',
  ])('refuses %j', (origin) => {
    expect(websocketOriginAllowed(origin, request, route)).toBe(false);
  });
  it('refuses two Origin headers', () => {
    expect(websocketOriginAllowed(['https://app.example.com', 'https://app.example.com'], request, route)).toBe(false);
  });
  it('compares ports as the user addressed the host', () => {
    const onPort = { scheme: 'http' as const, publicHost: 'app.test:8080' };
    const plain = { fromScheme: 'http' as const, wsOrigins: [] };
    expect(websocketOriginAllowed('http://app.test:8080', onPort, plain)).toBe(true);
    expect(websocketOriginAllowed('http://app.test', onPort, plain)).toBe(false);
    expect(websocketOriginAllowed('http://app.test:9090', onPort, plain)).toBe(false);
  });
});

describe('serializedOrigin', () => {
  it('normalises case and default ports, and refuses anything that is not an origin', () => {
    expect(serializedOrigin('HTTP://App.Test:80')).toBe('http://app.test');
    expect(serializedOrigin('null')).toBeNull();
    expect(serializedOrigin('http://app.test/')).toBeNull();
    expect(serializedOrigin('javascript://x')).toBeNull();
  });
});
