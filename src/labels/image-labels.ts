import type { ContainerSnapshot } from '../docker/index.ts';
import { classifyLabel } from './keys.ts';

/**
 * Labels speak for the deployer, never for the image. Docker merges an image's `LABEL`s into
 * its containers' labels, so a label under the prefix whose name and value both equal one of
 * the image's is taken to come from the image and is ignored. A deployer who repeats an image
 * label with the very same value cannot be told apart (nothing in the engine's API records
 * where a label came from), so that label is ignored too; writing the value differently
 * (`yes` for `true`) or the operator's GATEHOUSE_TRUST_IMAGE_LABELS=true keeps it.
 *
 * Two kinds are kept even from the image, because they can only take access away: `deny`,
 * and `enable` set to false. Dropping them would turn a deployer's repeated deny into an
 * opening.
 */

export interface IgnoredLabel {
  readonly label: string;
  readonly reason: string;
}

export type DeployerLabels =
  | { readonly ok: true; readonly labels: Readonly<Record<string, string>>; readonly ignored: readonly IgnoredLabel[] }
  /** The image's labels are unknown, so nothing under the prefix can be trusted. */
  | { readonly ok: false; readonly message: string };

const FALSE = new Set(['false', 'no', '0', 'off']);

function onlyNarrows(rest: string, value: string, prefix: string): boolean {
  const target = classifyLabel(rest, prefix);
  if (target.kind !== 'value') return false;
  return target.key === 'deny' || (target.key === 'enable' && FALSE.has(value.trim().toLowerCase()));
}

const NONE_IGNORED: readonly IgnoredLabel[] = Object.freeze([]);

/**
 * True when some label under the prefix has the very name and value of one of the image's: only
 * then is there anything to drop. Images carry a few labels at most and most carry none under
 * the prefix, so the image's side is the one walked: every name `image[name]` could find in the
 * loop over the labels below (own and inherited enumerable ones, as for-in lists them).
 */
function repeatsImageLabel(labels: Readonly<Record<string, string>>, image: Readonly<Record<string, string>>, prefix: string, head: string): boolean {
  for (const name in image) {
    if ((name === prefix || name.startsWith(head)) && Object.hasOwn(labels, name) && labels[name] === image[name]) return true;
  }
  return false;
}

export function deployerLabels(container: ContainerSnapshot, prefix: string, trustImageLabels: boolean): DeployerLabels {
  if (trustImageLabels) return { ok: true, labels: container.labels, ignored: [] };
  const head = `${prefix}.`;
  const ours = (name: string) => name === prefix || name.startsWith(head);
  const image = container.imageLabels;
  if (image === null) {
    if (!Object.keys(container.labels).some(ours)) return { ok: true, labels: container.labels, ignored: [] };
    return {
      ok: false,
      message:
        'its image labels are unknown (GET /images/json was refused or the image is gone), so labels set by the image cannot be told from yours: allow GET /images/json on the Docker socket proxy, or set GATEHOUSE_TRUST_IMAGE_LABELS=true',
    };
  }
  if (!repeatsImageLabel(container.labels, image, prefix, head)) return { ok: true, labels: container.labels, ignored: NONE_IGNORED };
  const labels: Record<string, string> = {};
  const ignored: IgnoredLabel[] = [];
  for (const [name, value] of Object.entries(container.labels)) {
    if (ours(name) && image[name] === value && !onlyNarrows(name.slice(head.length), value, prefix)) {
      ignored.push({
        label: name,
        reason: `set by the image, which may not publish or open routes; to keep it, set ${name} on the container to a value of your own (writing it differently works, such as yes for true), or set GATEHOUSE_TRUST_IMAGE_LABELS=true`,
      });
      continue;
    }
    labels[name] = value;
  }
  return { ok: true, labels, ignored: ignored.sort((a, b) => (a.label < b.label ? -1 : 1)) };
}

/** Every ignored image label of the listing's containers, for `gatehouse routes` and the log. */
export function ignoredImageLabels(
  containers: readonly ContainerSnapshot[],
  prefix: string,
  trustImageLabels: boolean,
): { containerId: string; containerName: string; label: string; reason: string }[] {
  return containers.flatMap((container) => {
    const result = deployerLabels(container, prefix, trustImageLabels);
    return result.ok ? result.ignored.map((entry) => ({ containerId: container.id, containerName: container.name, ...entry })) : [];
  });
}
