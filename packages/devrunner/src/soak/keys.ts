/** Names carrying this mark have events the soak's outbound queue always refuses. */
export const UNPUBLISHABLE_MARK = "UNPUBLISHABLE";

export function isUnpublishable(entityName: string): boolean {
  return entityName.includes(`_${UNPUBLISHABLE_MARK}_`);
}

export interface SoakKeys {
  readonly published: string[];
  readonly valid: Set<string>;
  readonly poison: Set<string>;
}

/**
 * The keys to publish: duplicates (at-least-once delivery), out-of-order stamps, 1 % poison keys, and
 * names of which a share (`unpublishableShare`, evenly spread) is marked unpublishable.
 */
export function soakKeys(messages: number, random: () => number, unpublishableShare = 0.005): SoakKeys {
  const names = Math.max(1, Math.floor(messages / 8));
  const every = unpublishableShare > 0 ? Math.max(1, Math.round(1 / unpublishableShare)) : 0;
  const published: string[] = [];
  const valid = new Set<string>();
  const validInOrder: string[] = [];
  const poison = new Set<string>();
  while (published.length < messages) {
    const roll = random();
    if (roll < 0.01) {
      const key = `soak_poison_${published.length}`;
      poison.add(key);
      published.push(key);
    } else if (roll < 0.11 && valid.size > 0) {
      published.push(validInOrder[Math.floor(random() * validInOrder.length)]!);
    } else {
      const index = Math.floor(random() * names);
      const name =
        every > 0 && index % every === 0 ? `SOAK_${UNPUBLISHABLE_MARK}_${index}` : `SOAK_ENTITY_${index}`;
      const day = 1 + Math.floor(random() * 28);
      const second = Math.floor(random() * 60);
      const key = `${name}_202201${String(day).padStart(2, "0")}T0000${String(second).padStart(2, "0")}`;
      if (!valid.has(key)) validInOrder.push(key);
      valid.add(key);
      published.push(key);
    }
  }
  return { published, valid, poison };
}

/** The entity name of a valid key (the part before `_YYYYMMDDTHHMMSS`). */
export function nameOf(key: string): string {
  return key.replace(/_\d{8}T\d{6}$/, "");
}

/** mulberry32: a small seeded generator, so a soak run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
