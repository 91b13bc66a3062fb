/** The environment as this package reads it; every function takes one (default `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Switches every workspace image to a registry prefix the operator controls. */
export const REGISTRY_VARIABLE = 'MOLECULE_IMAGE_REGISTRY';

/** The platform (`os/arch[/variant]`) passed to the engine on pulls; empty = engine default. */
export const PLATFORM_VARIABLE = 'MOLECULE_IMAGE_PLATFORM';
