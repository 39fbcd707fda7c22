import type { Descriptor } from '../oci/descriptor.js';
import { MediaTypes } from '../oci/media-types.js';
import { withNameAnnotations } from '../oci/name-annotations.js';
import { fullImageName, viewRefName, type Reference } from '../oci/reference.js';

/**
 * The bytes of a view's index.json: one descriptor, R's root, as the store has it, with
 * ref.name = R's tag (what skopeo `oci:DIR:TAG` and umoci `DIR:TAG` look up) and
 * io.containerd.image.name = R's full name (what containerd and Docker 25+ write). A view by
 * digest carries neither. Keys are written in a fixed order so the bytes are deterministic.
 */
export function viewIndexJson(root: Descriptor, ref: Reference | undefined): Buffer {
  const annotations = withNameAnnotations(root.annotations, ref ? { refName: viewRefName(ref), fullName: fullImageName(ref) } : {});
  const descriptor: Record<string, unknown> = { mediaType: root.mediaType, digest: root.digest, size: root.size };
  for (const key of Object.keys(root.raw).sort()) {
    if (!(key in descriptor) && key !== 'annotations') descriptor[key] = root.raw[key];
  }
  const keys = Object.keys(annotations).sort();
  if (keys.length > 0) descriptor.annotations = Object.fromEntries(keys.map((k) => [k, annotations[k]]));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [descriptor] }));
}

