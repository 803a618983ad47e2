import { describe, expect, it } from 'vitest';
import { canResend, isBareLfError, LfOnlyOrigins } from '../../../src/proxy/lf-only-upstream.ts';
import type { UpstreamCall } from '../../../src/proxy/forward.ts';
import { describeUpstreamFailure, upstreamErrorCodes } from '../../../src/proxy/upstream-failure.ts';

const coded = (code: string, cause?: unknown) => Object.assign(new Error(code, cause === undefined ? {} : { cause }), { code });
const parserError = (message: string) => Object.assign(new Error(message), { name: 'HTTPParserError', code: undefined });

describe('describeUpstreamFailure', () => {
  it.each([
    [coded('ECONNREFUSED'), 'refused', 502, 'upstream_refused'],
    [coded('UND_ERR_CONNECT_TIMEOUT'), 'timed_out', 504, 'gateway_timeout'],
    [coded('UND_ERR_HEADERS_TIMEOUT'), 'timed_out', 504, 'gateway_timeout'],
    [coded('UND_ERR_BODY_TIMEOUT'), 'timed_out', 504, 'gateway_timeout'],
    [coded('ETIMEDOUT'), 'timed_out', 504, 'gateway_timeout'],
    [parserError('Response does not match the HTTP/1.1 protocol (Missing expected CR after response line)'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('UND_ERR_SOCKET'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('ECONNRESET'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('HPE_INVALID_CONSTANT'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('ERR_INVALID_CHAR'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('GATEHOUSE_AMBIGUOUS_FRAMING'), 'bad_response', 502, 'upstream_bad_response'],
    [coded('ENOTFOUND'), 'unreachable', 502, 'bad_gateway'],
    [coded('EHOSTUNREACH'), 'unreachable', 502, 'bad_gateway'],
    [new Error('no code at all'), 'unreachable', 502, 'bad_gateway'],
    ['not an error', 'unreachable', 502, 'bad_gateway'],
  ])('%s → %s (%i, %s)', (error, kind, status, page) => {
    expect(describeUpstreamFailure(error)).toMatchObject({ kind, status, page });
  });

  it('reads the whole cause chain, and a timeout anywhere in it wins', () => {
    expect(describeUpstreamFailure(coded('UND_ERR_SOCKET', coded('ECONNREFUSED'))).kind).toBe('refused');
    expect(describeUpstreamFailure(coded('ECONNREFUSED', coded('ETIMEDOUT'))).kind).toBe('timed_out');
    expect(describeUpstreamFailure(new Error('wrapped', { cause: coded('ECONNREFUSED') })).kind).toBe('refused');
  });
});

describe('upstreamErrorCodes', () => {
  it('lists each code of the cause chain, naming code-less errors by their class', () => {
    expect(upstreamErrorCodes(coded('UND_ERR_SOCKET', coded('ECONNRESET')))).toEqual(['UND_ERR_SOCKET', 'ECONNRESET']);
    expect(upstreamErrorCodes(parserError('x'))).toEqual(['HTTPParserError']);
    expect(upstreamErrorCodes(new TypeError('x'))).toEqual(['TypeError']);
    expect(upstreamErrorCodes(new Error('plain'))).toEqual([]);
    expect(upstreamErrorCodes(undefined)).toEqual([]);
  });

  it('stops after five links, so a cyclic chain cannot hang it', () => {
    const a = coded('A');
    const b = coded('B', a);
    (a as { cause?: unknown }).cause = b;
    expect(upstreamErrorCodes(b)).toEqual(['B', 'A', 'B', 'A', 'B']);
  });
});

describe('LF-only upstream helpers', () => {
  it('recognises undici\'s bare-LF parser errors only', () => {
    expect(isBareLfError(parserError('Response does not match the HTTP/1.1 protocol (Missing expected CR after header value)'))).toBe(true);
    expect(isBareLfError(parserError('Response does not match the HTTP/1.1 protocol (Invalid header value char)'))).toBe(false);
    expect(isBareLfError(new Error('Missing expected CR after response line'))).toBe(false);
    expect(isBareLfError('Missing expected CR')).toBe(false);
  });

  it('sends a request again only when it is safe and has no body', () => {
    const call = (method: string, body?: unknown) => ({ method, body }) as unknown as UpstreamCall;
    expect(canResend(call('GET'))).toBe(true);
    expect(canResend(call('HEAD'))).toBe(true);
    expect(canResend(call('OPTIONS'))).toBe(true);
    expect(canResend(call('POST'))).toBe(false);
    expect(canResend(call('DELETE'))).toBe(false);
    expect(canResend(call('GET', {}))).toBe(false);
  });

  it('remembers a bounded number of origins, forgetting the least recently seen first', () => {
    const origins = new LfOnlyOrigins(2);
    origins.remember('http://a');
    origins.remember('http://b');
    origins.remember('http://a');
    origins.remember('http://c');
    expect(origins.has('http://a')).toBe(true);
    expect(origins.has('http://b')).toBe(false);
    expect(origins.has('http://c')).toBe(true);
    expect(origins.size).toBe(2);
  });
});
