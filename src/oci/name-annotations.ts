import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from './descriptor.js';

/**
 * The one rule for the name an index entry gives its image: the string in its
 * org.opencontainers.image.ref.name annotation. Takes the entry's JSON as stored, so a writer
 * sees the same name on an entry that is no valid descriptor as a reader would on a valid one.
 */
export function refNameOf(entry: unknown): string | undefined {
  const name = (entry as { annotations?: Record<string, unknown> | null } | null)?.annotations?.[REF_NAME_ANNOTATION];
  return typeof name === 'string' ? name : undefined;
}

/**
 * The full image name an entry of an archive's index.json records: io.containerd.image.name
 * (containerd, Docker 25+), else ref.name.
 */
export function fullNameOf(entry: unknown): string | undefined {
  const name = (entry as { annotations?: Record<string, unknown> | null } | null)?.annotations?.[CONTAINERD_NAME_ANNOTATION];
  return typeof name === 'string' ? name : refNameOf(entry);
}

/**
 * The one place name annotations are written: a copy of `annotations` whose ref.name is
 * `names.refName` and whose io.containerd.image.name is `names.fullName`, each removed when not
 * given (a full name recorded for another name would name the image wrongly in exports and
 * re-imports). Other annotations are kept, in their order.
 */
export function withNameAnnotations<V>(annotations: Readonly<Record<string, V>> | undefined,
  names: { refName?: string; fullName?: string }): Record<string, V | string> {
  const out: Record<string, V | string> = { ...annotations };
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a constant key; delete keeps the other annotations in their order
  if (names.refName === undefined) delete out[REF_NAME_ANNOTATION];
  else out[REF_NAME_ANNOTATION] = names.refName;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- as above
  if (names.fullName === undefined) delete out[CONTAINERD_NAME_ANNOTATION];
  else out[CONTAINERD_NAME_ANNOTATION] = names.fullName;
  return out;
}
