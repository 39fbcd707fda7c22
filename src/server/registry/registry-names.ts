import type { Digest } from '../../oci/digest.js';
import { isConformingTag, isDistributionName, type Reference } from '../../oci/reference.js';

/** Where bare tags (`3.11`, `latest`: references without a repository) are served by default. */
export { DEFAULT_BARE_REPOSITORY } from '../../oci/reference.js';

export type RegistryName =
  | { repository: string; tag: string }
  | { repository: string; digest: Digest };

/**
 * The repository name a store reference's repository is served under. A registry name has no
 * room for a port (`registry.example:5000/team/app` inside `127.0.0.1:5000/...` does not parse
 * for any client), so the port joins its host with `_`: `registry.example_5000/team/app`. A real
 * host name never contains `_`, so this cannot collide with another domain.
 */
export function registryRepository(repository: string): string {
  return repository.replace(/^([^/:]+):(\d+)(?=\/)/, '$1_$2');
}

/**
 * How a reference is addressed over the distribution API, or why it cannot be: `repo:tag` is
 * repository `repo` (see registryRepository), tag `tag`; `repo@digest` is served by digest under
 * `repo`; a bare tag is a tag of `bareRepository`. Only names the distribution-spec allows are
 * served: a name a client would refuse or read as another registry (capitals, an `[::1]:5000`
 * host) is left to the /layouts/ tree and listed in unservedReferences with the reason. No
 * lowercased alias is made: it could clash with a real lowercase name.
 */
export function registryNameOf(ref: Reference, bareRepository: string): RegistryName | string {
  if (ref.kind === 'single') {
    return isConformingTag(ref.raw) ? { repository: bareRepository, tag: ref.raw } : 'neither a repository:tag nor a valid bare tag';
  }
  const repository = registryRepository(ref.repository);
  if (!isDistributionName(repository)) {
    return `repository ${JSON.stringify(repository)} is not a distribution-spec name (lowercase path components only: no capitals, [IPv6] hosts or odd characters)`;
  }
  if (ref.kind === 'digested') return { repository, digest: ref.digest };
  return isConformingTag(ref.tag) ? { repository, tag: ref.tag } : `tag ${JSON.stringify(ref.tag)} is not a valid registry tag`;
}
