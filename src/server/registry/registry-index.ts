import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { sortedPosition } from '../../view/dir-children.js';
import type { Snapshot } from '../../view/snapshot.js';
import type { NamedView, ViewEntry } from '../../view/view-entry.js';
import type { ClosureBlob, View } from '../../view/view.js';
import { registryNameOf } from './registry-names.js';
import { RepositoryBlobs } from './repository-blobs.js';

/**
 * A repository holds reference names, not the snapshot's entries: it outlives the snapshot it was
 * built from, and entries of every past snapshot would stay alive with it (50,000 held twice).
 */
export interface Repository {
  readonly name: string;
  /** The reference name each tag serves. */
  readonly tags: ReadonlyMap<string, string>;
  /** Every reference of the repository (tags and digests), by name: its content is their closures. */
  readonly roots: readonly string[];
  /** References whose tag an earlier reference already serves here (`a_5000/x:1` and `a:5000/x:1`). */
  readonly shadowed: readonly string[];
}

/** Referrer entries by subject digest. */
type Referrers = ReadonlyMap<Digest, readonly ViewEntry[]>;

/**
 * The repositories of `views`, in index.json order: of two names meeting in one registry tag the
 * first wins, like index.json's own rule. References the API cannot address go to `unserved`.
 */
function group(views: Iterable<NamedView>, bareRepository: string, unserved: Map<string, string>): Map<string, Repository> {
  const repos = new Map<string, { name: string; tags: Map<string, string>; roots: string[]; shadowed: string[] }>();
  for (const v of views) {
    const name = registryNameOf(v.reference, bareRepository);
    if (typeof name === 'string') {
      unserved.set(v.name, name);
      continue;
    }
    let repo = repos.get(name.repository);
    if (!repo) repos.set(name.repository, (repo = { name: name.repository, tags: new Map(), roots: [], shadowed: [] }));
    if ('tag' in name) {
      if (repo.tags.has(name.tag)) {
        unserved.set(v.name, `${name.repository}:${name.tag} is already served for an earlier reference`);
        repo.shadowed.push(v.name);
        continue;
      }
      repo.tags.set(name.tag, v.name);
    }
    repo.roots.push(v.name);
  }
  return repos;
}

/** Whether two descriptors name the same content the same way (what the registry serves of a root). */
function sameContent(a: Descriptor, b: Descriptor): boolean {
  return a.digest === b.digest && a.size === b.size && a.mediaType === b.mediaType;
}

/** A view of a named reference (not a platform view of one, nor a view by digest). */
function isNamed(v: ViewEntry): v is NamedView {
  return v.name !== undefined && v.platform === undefined;
}

function sameRoot(v: ViewEntry, other: ViewEntry | undefined): boolean {
  return other !== undefined && sameContent(v.root, other.root);
}

/** Subjects whose referrers differ between two store states. */
function changedSubjects(before: Referrers, after: Referrers): Digest[] {
  if (before === after) return [];
  const out: Digest[] = [];
  for (const [subject, list] of after) {
    const was = before.get(subject);
    if (was?.length !== list.length || list.some((v, i) => !sameRoot(v, was[i]))) out.push(subject);
  }
  for (const subject of before.keys()) if (!after.has(subject)) out.push(subject);
  return out;
}

/**
 * The store as a registry sees it: repositories, their tags, and the referrers (the view's:
 * unnamed index.json entries with a subject, the store's one model of them). It follows the
 * view's state: `sync` moves it to the current snapshot in place, synchronously, building only
 * what the change touched (the server calls it in the view's change listener, off the request path).
 * A request takes its Repository once, at its start; repositories whose references did not
 * change stay the same objects, so their blob maps (RepositoryBlobs) stay cached.
 */
export class RegistryIndex {
  private current: Snapshot;
  private currentReferrers: Referrers;
  private readonly repos: Map<string, Repository>;
  private readonly sorted: string[];
  /** Why each reference the registry API cannot address is not served, by reference name. */
  private readonly unservedByName = new Map<string, string>();
  /** Repositories with shadowed references. */
  private readonly shadowing = new Set<string>();
  private readonly blobs: RepositoryBlobs;
  /** Repositories built so far: all of them at start, then at each change those whose references changed. */
  repositoriesBuilt: number;

  constructor(private readonly view: View, private readonly bareRepository: string) {
    this.current = view.snapshot;
    this.currentReferrers = view.referrers;
    this.blobs = new RepositoryBlobs(view.cacheStats().maxBytes);
    this.repos = group(this.current.named, bareRepository, this.unservedByName);
    this.sorted = [...this.repos.keys()].sort();
    for (const repo of this.repos.values()) if (repo.shadowed.length > 0) this.shadowing.add(repo.name);
    this.repositoriesBuilt = this.repos.size;
  }

  get repositories(): ReadonlyMap<string, Repository> {
    return this.repos;
  }

  /** Repository names, sorted for the catalog. */
  get names(): readonly string[] {
    return this.sorted;
  }

  /** Referrers by subject digest: what /referrers/ lists and what a repository's content takes in. */
  get referrers(): Referrers {
    return this.currentReferrers;
  }

  /** Repository blob maps built so far (see RepositoryBlobs). */
  get blobMapsBuilt(): number {
    return this.blobs.built;
  }

  /** References the registry API cannot address, and why (served under /layouts/ only), in index.json order. */
  get unserved(): { ref: string; why: string }[] {
    const out: { ref: string; why: string }[] = [];
    if (this.unservedByName.size === 0) return out;
    for (const v of this.current.named) {
      const why = this.unservedByName.get(v.name);
      if (why !== undefined) out.push({ ref: v.name, why });
    }
    return out;
  }

  /**
   * Moves the index to the view's current state, if it moved. Repositories with a reference added,
   * removed or pointing elsewhere are built again from their references; the others are kept as
   * they are. Finding them takes the snapshot's delta; only after a skipped state is every name
   * looked up. Returns the index.
   */
  sync(): this {
    const snapshot = this.view.snapshot;
    const before = this.current;
    if (snapshot === before) return this;
    const referrers = this.view.referrers;
    // Of two names meeting in one tag, index.json order picks the winner, which a diff by name
    // does not see: such repositories are built again at every change (they are rare).
    const touched = new Set(this.shadowing);
    /** Names to group again: changed ones, and the other references of their repositories. */
    const regroup = new Set<string>();
    const touch = (v: NamedView) => {
      this.unservedByName.delete(v.name);
      const name = registryNameOf(v.reference, this.bareRepository);
      if (typeof name !== 'string') touched.add(name.repository);
    };
    if (snapshot.generation === before.generation + 1) {
      // The snapshot names the views that came and went since the one before it.
      for (const v of snapshot.delta.gone) if (isNamed(v)) touch(v);
      for (const v of snapshot.delta.came) {
        if (!isNamed(v)) continue;
        touch(v);
        regroup.add(v.name);
      }
    } else {
      // A state was skipped (a sync that failed): every name is compared.
      let kept = 0;
      let moved = 0;
      for (const v of snapshot.named) {
        const was = before.byName.get(v.name);
        if (sameRoot(v, was)) {
          kept++;
          continue;
        }
        // A name keeps its repository: touching it once covers the entry it replaces.
        if (was) moved++;
        touch(v);
        regroup.add(v.name);
      }
      if (kept + moved < before.named.length) {
        for (const v of before.named) if (!snapshot.byName.has(v.name)) touch(v);
      }
    }
    const replaced: Repository[] = [];
    for (const name of touched) {
      const repo = this.repos.get(name);
      if (!repo) continue;
      replaced.push(repo);
      for (const ref of repo.roots) regroup.add(ref);
      for (const ref of repo.shadowed) {
        regroup.add(ref);
        this.unservedByName.delete(ref);
      }
    }
    const rebuilt = regroup.size === 0 ? new Map<string, Repository>()
      : group(snapshot.named.filter((v) => regroup.has(v.name)), this.bareRepository, this.unservedByName);
    this.blobs.carryOver(replaced, changedSubjects(this.currentReferrers, referrers),
      snapshot.present === before.present ? undefined : snapshot.present);
    for (const name of touched) this.replace(name, rebuilt.get(name));
    this.repositoriesBuilt += rebuilt.size;
    this.current = snapshot;
    this.currentReferrers = referrers;
    return this;
  }

  /** Puts `repo` in place of repository `name` (none: it is gone), in the catalog too. */
  private replace(name: string, repo: Repository | undefined): void {
    const at = sortedPosition(this.sorted, name);
    const listed = this.sorted[at] === name;
    if (repo) {
      this.repos.set(name, repo);
      if (!listed) this.sorted.splice(at, 0, name);
    } else {
      this.repos.delete(name);
      if (listed) this.sorted.splice(at, 1);
    }
    if (repo && repo.shadowed.length > 0) this.shadowing.add(name);
    else this.shadowing.delete(name);
  }

  /** The reference a tag of `repo` serves now. */
  tagged(repo: Repository, tag: string): NamedView | undefined {
    const name = repo.tags.get(tag);
    return name === undefined ? undefined : this.current.byName.get(name);
  }

  /**
   * The blob `digest` when the repository may serve it (reachability is the access rule), else
   * undefined: one lookup in the repository's blob map (see RepositoryBlobs).
   */
  async blobOf(repo: Repository, digest: Digest): Promise<ClosureBlob | undefined> {
    return (await this.blobs.of(this.view, repo, this.current, this.currentReferrers)).get(digest);
  }
}
