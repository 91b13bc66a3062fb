/**
 * The Docker hosts a rollout goes over: one admin-api each (`IMAGE_WATCH_HOSTS`), in
 * configured order. Without the variable, one host named `default` at `MOLECULE_ADMIN_API_URL`.
 */
import type { AdminClient } from '../admin-client/client.js';

export interface HostConfig {
  /** `[a-z0-9][a-z0-9-]*`, unique. */
  readonly name: string;
  /** admin-api's base URL. */
  readonly url: string;
}

export interface AdminHosts<Client = AdminClient> {
  /** Host names in configured order. */
  readonly names: readonly string[];
  client(name: string): Client;
}

export function adminHosts<Client>(clients: ReadonlyMap<string, Client>): AdminHosts<Client> {
  const names = Object.freeze([...clients.keys()]);
  return {
    names,
    client(name) {
      const client = clients.get(name);
      if (client === undefined) throw new Error(`no such host: ${name}`);
      return client;
    },
  };
}
