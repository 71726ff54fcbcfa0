let nodeWebCrypto: Promise<Crypto> | undefined;

/**
 * WebCrypto: a global in browsers, Workers and Node ≥ 19; Node 18 has it only as
 * `node:crypto`'s `webcrypto`, loaded on first use (through a variable, so bundlers for
 * browsers and Workers leave the import alone).
 */
export function webCrypto(): Promise<Crypto> {
  const global = (globalThis as { crypto?: Crypto }).crypto;
  if (global?.subtle) return Promise.resolve(global);
  const specifier = "node:crypto";
  nodeWebCrypto ??= import(/* @vite-ignore */ /* webpackIgnore: true */ specifier).then(
    (module: { webcrypto: Crypto }) => module.webcrypto,
  );
  return nodeWebCrypto;
}
