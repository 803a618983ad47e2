import { describe, expect, it } from 'vitest';
import { signInViaHttp } from '../../helpers/http-sign-in.ts';
import { startIdpTestApp } from '../../helpers/idp-app.ts';

describe('smoke', () => {
  it('signs in', async () => {
    const app = await startIdpTestApp({ users: { alice: { email: 'alice@example.com', groups: ['demo'], password: 'correct horse' } } });
    try {
      const result = await signInViaHttp(app.loginUrl, 'alice', 'correct horse');
      console.log(result.visited.map((u) => u.href).join('\n'), result.response.status, result.body.slice(0, 2000));
      console.log(app.logs.join('\n'));
      expect(result.response.status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
