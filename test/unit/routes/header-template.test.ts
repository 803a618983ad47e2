import { describe, expect, it } from 'vitest';
import { compileHeaderTemplate } from '../../../src/routes/index.ts';

describe('header templates', () => {
  it('splits literal text and placeholders in order', () => {
    const compiled = compileHeaderTemplate('Bearer {jwt} for {email}!');
    expect(compiled).toEqual({
      ok: true,
      template: { secret: null, parts: ['Bearer ', { placeholder: 'jwt' }, ' for ', { placeholder: 'email' }, '!'], usesIdentity: true, usesJwt: true },
    });
  });

  it('a value without placeholders is one literal part that names nobody', () => {
    expect(compileHeaderTemplate('blue')).toEqual({ ok: true, template: { secret: null, parts: ['blue'], usesIdentity: false, usesJwt: false } });
  });

  it('keeps braces that hold no word (JSON, empty braces) as literal text', () => {
    const compiled = compileHeaderTemplate('{"a": 1} {} {user}');
    expect(compiled.ok && compiled.template.parts).toEqual(['{"a": 1} {} ', { placeholder: 'user' }]);
  });

  it('a secret: reference is a secret, not text', () => {
    expect(compileHeaderTemplate('secret:api_token')).toEqual({ ok: true, template: { secret: 'api_token', parts: [], usesIdentity: false, usesJwt: false } });
  });

  it.each(['{emial}', 'x-{User}', '{groups}{jwt_token}'])('refuses an unknown placeholder in %s, naming it and the known ones', (value) => {
    const compiled = compileHeaderTemplate(value);
    expect(compiled.ok).toBe(false);
    expect(!compiled.ok && compiled.error).toMatch(/^unknown placeholder \{\w+\}; the known ones are \{user\}, \{email\}, \{name\}, \{groups\}, \{jwt\}$/);
  });
});
