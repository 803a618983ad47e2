/**
 * A route's `header.<Name>` value compiled into parts: literal text, `{user}`-style
 * placeholders, or a `secret:NAME` reference. Pure. Labels validate values with it, so a value
 * that cannot compile is an issue on the route, and the proxy compiles every route of a table
 * generation with it once, when the generation is first seen, so no request pays for it.
 */

export const HEADER_PLACEHOLDERS = ['user', 'email', 'name', 'groups', 'jwt'] as const;
export type HeaderPlaceholder = (typeof HEADER_PLACEHOLDERS)[number];

export type HeaderTemplatePart = string | { readonly placeholder: HeaderPlaceholder };

export interface HeaderTemplate {
  /** `secret:NAME`: the file name under the secrets directory; then `parts` is empty. */
  readonly secret: string | null;
  readonly parts: readonly HeaderTemplatePart[];
  readonly usesIdentity: boolean;
  readonly usesJwt: boolean;
}

export type CompiledTemplate = { readonly ok: true; readonly template: HeaderTemplate } | { readonly ok: false; readonly error: string };

/** `{word}`: every braced word is a placeholder, so a typo such as `{emial}` is an error, not literal text sent upstream. */
const BRACED_WORD = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const KNOWN: ReadonlySet<string> = new Set(HEADER_PLACEHOLDERS);

export function compileHeaderTemplate(value: string): CompiledTemplate {
  if (value.startsWith('secret:')) {
    return { ok: true, template: Object.freeze({ secret: value.slice('secret:'.length), parts: Object.freeze([]), usesIdentity: false, usesJwt: false }) };
  }
  const parts: HeaderTemplatePart[] = [];
  let last = 0;
  let usesJwt = false;
  for (const match of value.matchAll(BRACED_WORD)) {
    const word = match[1] as string;
    if (!KNOWN.has(word)) {
      return { ok: false, error: `unknown placeholder {${word}}; the known ones are ${HEADER_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` };
    }
    if (match.index > last) parts.push(value.slice(last, match.index));
    if (word === 'jwt') usesJwt = true;
    parts.push(Object.freeze({ placeholder: word as HeaderPlaceholder }));
    last = match.index + match[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return {
    ok: true,
    template: Object.freeze({ secret: null, parts: Object.freeze(parts), usesIdentity: parts.some((part) => typeof part !== 'string'), usesJwt }),
  };
}
