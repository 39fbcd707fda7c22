/**
 * Docker's short names made full, the way `docker pull` reads them: `alpine:3.11` is
 * `docker.io/library/alpine:3.11`, `user/app:1` is `docker.io/user/app:1`; a first component with
 * a `.` or `:`, or `localhost`, is a registry and stays. Used for names from `docker save` archives.
 */
export function normalizeDockerName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return name;
  return slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
}
