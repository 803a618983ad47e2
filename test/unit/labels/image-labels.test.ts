import { describe, expect, it } from 'vitest';
import { deployerLabels, ignoredImageLabels } from '../../../src/labels/index.ts';
import { container } from './containers.ts';

/** The image-label rule on its own (SECURITY.md, "Image labels speak for nobody"). */
describe('deployerLabels', () => {
  it('drops labels equal to the image’s, keeps different values and labels the image lacks', () => {
    const c = container({
      labels: { 'iap.from': 'https://mine.example.com', 'iap.public': 'true', 'iap.allow': '*', 'iap.port': '80', other: 'x' },
      imageLabels: { 'iap.from': 'https://theirs.example.com', 'iap.public': 'true', 'iap.port': '80', other: 'x' },
    });
    const result = deployerLabels(c, 'iap', false);
    expect(result).toEqual({
      ok: true,
      labels: { 'iap.from': 'https://mine.example.com', 'iap.allow': '*', other: 'x' },
      ignored: [
        { label: 'iap.port', reason: expect.stringContaining('set iap.port on the container to a value of your own') },
        { label: 'iap.public', reason: expect.stringContaining('GATEHOUSE_TRUST_IMAGE_LABELS=true') },
      ],
    });
  });

  it('never drops labels of another prefix, nor a label equal to the image’s under another name', () => {
    const c = container({ labels: { 'traefik.enable': 'true', 'iap.allow': '*' }, imageLabels: { 'traefik.enable': 'true', 'iap.deny': '*' } });
    expect(deployerLabels(c, 'iap', false)).toEqual({ ok: true, labels: { 'traefik.enable': 'true', 'iap.allow': '*' }, ignored: [] });
  });

  it('counts the bare prefix as ours', () => {
    const c = container({ labels: { iap: 'x' }, imageLabels: { iap: 'x' } });
    expect(deployerLabels(c, 'iap', false)).toMatchObject({ labels: {}, ignored: [{ label: 'iap' }] });
  });

  it.each(['false', 'no', '0', 'off', ' OFF '])('keeps an image enable=%j: it can only withhold', (value) => {
    const c = container({ labels: { 'iap.enable': value, 'iap.admin.enable': value }, imageLabels: { 'iap.enable': value, 'iap.admin.enable': value } });
    expect(deployerLabels(c, 'iap', false)).toEqual({ ok: true, labels: { 'iap.enable': value, 'iap.admin.enable': value }, ignored: [] });
  });

  it.each([
    ['iap.health', 'off'],
    ['iap.public', 'false'],
    ['iap.websockets', 'no'],
    ['iap.admin.strip_path', '0'],
  ])('drops an image %s=%j: only deny and enable=false are kept', (label, value) => {
    const c = container({ labels: { [label]: value }, imageLabels: { [label]: value } });
    expect(deployerLabels(c, 'iap', false)).toMatchObject({ labels: {}, ignored: [{ label }] });
  });

  it.each(['true', 'yes', '1', 'on', 'maybe'])('drops an image enable=%j', (value) => {
    const c = container({ labels: { 'iap.enable': value }, imageLabels: { 'iap.enable': value } });
    expect(deployerLabels(c, 'iap', false)).toMatchObject({ labels: {}, ignored: [{ label: 'iap.enable' }] });
  });

  it('keeps an image deny, top level or named; drops headers and keys that only end like one', () => {
    const labels = { 'iap.deny': 'group:kids', 'iap.admin.deny': 'user:7', 'iap.header.x.deny': '1', 'iap.header.enable': 'false', 'iap.denied.from': 'https://x.example.com' };
    const c = container({ labels, imageLabels: labels });
    const result = deployerLabels(c, 'iap', false);
    expect(result).toMatchObject({ labels: { 'iap.deny': 'group:kids', 'iap.admin.deny': 'user:7' } });
    expect(result.ok && result.ignored.map((i) => i.label)).toEqual(['iap.denied.from', 'iap.header.enable', 'iap.header.x.deny']);
  });

  it('trusts everything when the operator says so, and when the image is unknown holds back only containers with our labels', () => {
    const c = container({ labels: { 'iap.public': 'true' }, imageLabels: { 'iap.public': 'true' } });
    expect(deployerLabels(c, 'iap', true)).toEqual({ ok: true, labels: { 'iap.public': 'true' }, ignored: [] });
    const unknown = container({ labels: { 'iap.from': 'https://a.example.com' }, imageLabels: null });
    expect(deployerLabels(unknown, 'iap', false)).toEqual({ ok: false, message: expect.stringContaining('allow GET /images/json on the Docker socket proxy, or set GATEHOUSE_TRUST_IMAGE_LABELS=true') });
    expect(deployerLabels(unknown, 'iap', true)).toMatchObject({ ok: true });
    const mixed = container({ labels: { 'com.docker.compose.project': 'shop', 'iap.public': 'true' }, imageLabels: null });
    expect(deployerLabels(mixed, 'iap', false)).toMatchObject({ ok: false });
    const unrelated = container({ labels: { 'traefik.enable': 'true' }, imageLabels: null });
    expect(deployerLabels(unrelated, 'iap', false)).toEqual({ ok: true, labels: { 'traefik.enable': 'true' }, ignored: [] });
  });
});

describe('ignoredImageLabels', () => {
  it('lists each container’s ignored labels with its name and id, none for unknown images or when trusted', () => {
    const a = container({ id: 'a1', name: 'a', labels: { 'iap.public': 'true' }, imageLabels: { 'iap.public': 'true' } });
    const b = container({ id: 'b1', name: 'b', labels: { 'iap.public': 'true' }, imageLabels: null });
    expect(ignoredImageLabels([a, b], 'iap', false)).toEqual([{ containerId: 'a1', containerName: 'a', label: 'iap.public', reason: expect.stringContaining('set by the image') }]);
    expect(ignoredImageLabels([a, b], 'iap', true)).toEqual([]);
  });
});
