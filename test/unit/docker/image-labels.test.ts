import { describe, expect, it } from 'vitest';
import { toImageLabels } from '../../../src/docker/image-labels.ts';
import { toSnapshot, type ContainerListEntry } from '../../../src/docker/index.ts';

describe('image labels from GET /images/json', () => {
  it('maps each image id to its labels; no labels is {}, not unknown', () => {
    const images = toImageLabels([
      { Id: 'sha256:aaa', Labels: { 'iap.public': 'true', 'org.opencontainers.image.title': 'app' } },
      { Id: 'sha256:bbb', Labels: null },
      { Id: '', Labels: { 'iap.from': 'x' } },
      { Labels: { 'iap.from': 'x' } },
      null,
      { Id: 'sha256:ccc', Labels: { 'iap.port': 8080, ok: 'yes' } },
    ]);
    expect([...images.entries()]).toEqual([
      ['sha256:aaa', { 'iap.public': 'true', 'org.opencontainers.image.title': 'app' }],
      ['sha256:bbb', {}],
      ['sha256:ccc', { ok: 'yes' }],
    ]);
  });

  it("puts the container's image labels in its snapshot, null when the image or the list is unknown", () => {
    const entry = { Id: 'c1', Names: ['/app'], ImageID: 'sha256:aaa', Labels: { 'iap.public': 'true' }, State: 'running' } as unknown as ContainerListEntry;
    const images = toImageLabels([{ Id: 'sha256:aaa', Labels: { 'iap.public': 'true' } }]);
    expect(toSnapshot(entry, images).imageLabels).toEqual({ 'iap.public': 'true' });
    expect(toSnapshot(entry, null).imageLabels).toBeNull();
    expect(toSnapshot({ ...entry, ImageID: 'sha256:gone' }, images).imageLabels).toBeNull();
  });
});
