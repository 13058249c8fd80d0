/** Newest modification time (ms) of the files under these paths (folders walked, node_modules and dist skipped). */
export declare function newestModification(paths: readonly string[]): number;
