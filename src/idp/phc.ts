/** Moved to util/ so auth/ can hash app passwords without loading the provider; kept for idp's own imports. */
export * from '../util/phc.ts';
