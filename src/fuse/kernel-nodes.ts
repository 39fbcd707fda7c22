import type { Node } from '../view/nodes.js';

/**
 * The nodes the kernel holds, with its lookup counts: a LOOKUP or a readdirplus entry adds one,
 * FORGET takes them away, and a node at zero leaves the table. Sized by what the kernel caches,
 * not by the store; a node the kernel asks for after forgetting it (an NFS file handle) is found
 * again by id through the view.
 */
export class KernelNodes {
  private readonly nodes = new Map<number, { node: Node; lookups: number }>();

  remember(node: Node): void {
    const known = this.nodes.get(node.id);
    if (known) {
      known.node = node;
      known.lookups++;
    } else {
      this.nodes.set(node.id, { node, lookups: 1 });
    }
  }

  forget(id: number, lookups: number): void {
    const known = this.nodes.get(id);
    if (!known) return;
    known.lookups -= lookups;
    if (known.lookups <= 0) this.nodes.delete(id);
  }

  get(id: number): Node | undefined {
    return this.nodes.get(id)?.node;
  }

  has(id: number): boolean {
    return this.nodes.has(id);
  }
}
