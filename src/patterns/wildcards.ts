/** Values of the named wildcards of one unit, e.g. `{ doc: 'a', page: '001' }`. */
export type Wildcards = Readonly<Record<string, string>>;
