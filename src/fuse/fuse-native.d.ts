// The part of fuse-native 2.2.6's API that layoutfs uses (the package ships no types).
declare module 'fuse-native' {
  type Cb<T extends unknown[] = []> = (err: number, ...result: T) => void;
  export interface Stat {
    mode: number; uid: number; gid: number; size: number; dev?: number; nlink: number; ino: number;
    rdev?: number; blksize: number; blocks: number; atime: Date | number; mtime: Date | number; ctime: Date | number;
  }
  export interface Statfs {
    bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number;
    ffree: number; favail: number; fsid: number; flag: number; namemax: number;
  }
  export interface Operations {
    init?(cb: Cb): void;
    /** layoutfs's subclass passes the stat array through (see src/fuse/mount.ts). */
    getattr?(path: string, cb: Cb<[Uint32Array?]>): void;
    fgetattr?(path: string, fd: number, cb: Cb<[Uint32Array?]>): void;
    readdir?(path: string, cb: Cb<[string[]?, Stat[]?]>): void;
    open?(path: string, flags: number, cb: Cb<[number?]>): void;
    read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrErr: number) => void): void;
    release?(path: string, fd: number, cb: Cb): void;
    statfs?(path: string, cb: Cb<[Statfs?]>): void;
    [op: string]: unknown;
  }
  export interface FuseOptions {
    force?: boolean; mkdir?: boolean; timeout?: number | false | Record<string, number | false>;
    allowOther?: boolean; autoUnmount?: boolean; defaultPermissions?: boolean; fsname?: string; subtype?: string;
    uid?: number; gid?: number; debug?: boolean; maxRead?: number;
  }
  export default class Fuse {
    constructor(mnt: string, ops: Operations, opts?: FuseOptions);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    protected _fuseOptions(): string;
    protected ops: Operations;
    /** The native per-mount state, set by mount(). */
    protected _thread: Buffer | null;
    protected _op_getattr(signal: (err: number, stat?: Uint32Array) => void, path: string): void;
    protected _op_fgetattr(signal: (err: number, stat?: Uint32Array) => void, path: string, fd: number): void;
    static ENOENT: number; static EIO: number; static EROFS: number; static EACCES: number; static ENOTDIR: number;
    static EISDIR: number; static EBADF: number; static ENOSYS: number; static EPERM: number; static ENOTCONN: number;
    static ENOMEM: number; static EINVAL: number; static ENODATA: number; static ELOOP: number; static EAGAIN: number;
  }
}
