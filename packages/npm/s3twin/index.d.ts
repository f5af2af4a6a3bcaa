import type { PutObjectCommandInput, S3Client, S3ClientConfig, _Object } from "@aws-sdk/client-s3";

export interface ServerOptions {
  /** Port to listen on (default 4566); 0 picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Region the server answers as (default us-east-1). */
  region?: string;
  /** A preset name or path to a seed file, or a seed document, loaded into the default run. */
  seed?: string | SeedDocument;
  /** Enforce limits relaxed by default (multipart parts of at least 5 MiB). */
  strict?: boolean;
  /** "enforce" verifies signatures and authorizes requests. */
  auth?: "none" | "enforce";
  /** The binary to run (default: S3TWIN_BINARY, the platform package, then PATH). */
  binary?: string;
  /** Extra command-line arguments. */
  args?: string[];
}

export interface RunOptions {
  /** The run's id (1-64 of [A-Za-z0-9._-]); a random one by default. */
  runId?: string;
  /** A preset name (e.g. "invoice-store") or a seed document. */
  seed?: string | SeedDocument;
  strict?: boolean;
  chaos?: unknown[];
  auth?: "none" | "enforce";
}

export interface StartOptions extends RunOptions {
  /** Port of the shared server when this call starts it (default 0: a free port). */
  port?: number;
}

export interface SeedDocument {
  buckets?: Array<Record<string, unknown>>;
  webhooks?: Record<string, string>;
  chaos?: unknown[];
  [key: string]: unknown;
}

export interface ClockState {
  runId: string;
  now: string;
  frozen: boolean;
  rate: number;
  lifecycle?: Record<string, number>;
}

export type LifecycleShortForm = { expirationDays: number; prefix?: string; id?: string };

export interface ClientConfig extends S3ClientConfig {
  /** Let this client send production-looking keys to *.amazonaws.com. */
  allowProduction?: boolean;
}

export declare class S3Server {
  constructor(options?: number | ServerOptions);
  readonly options: ServerOptions;
  /** `http://HOST:PORT` while started, else null. */
  endpoint: string | null;
  port: number | null;
  readonly pid: number | undefined;
  start(): Promise<this>;
  stop(): Promise<void>;
  /** Empties every run. */
  reset(): Promise<unknown>;
  /** A new run on this server. */
  run(options?: RunOptions): Promise<Clone>;
  adminGet(route: string): Promise<any>;
  adminPost(route: string, body?: unknown): Promise<any>;
  adminDelete(route: string): Promise<any>;
}

export declare class Clone {
  readonly server: S3Server;
  /** The server's endpoint, `http://HOST:PORT`; the run's S3 API is at endpoint + "/t/" + runId. */
  readonly endpoint: string;
  readonly runId: string;
  /** endpoint + "/t/" + runId. */
  readonly runEndpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** An S3Client for this run, with the destructive-call refusal on. */
  client(config?: ClientConfig): S3Client;
  /** AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_S3_FORCE_PATH_STYLE. */
  env(): Record<string, string>;
  createBucket(bucket: string, input?: Record<string, unknown>): Promise<unknown>;
  putObject(
    bucket: string,
    key: string,
    body: PutObjectCommandInput["Body"],
    input?: Record<string, unknown>,
  ): Promise<unknown>;
  getObject(bucket: string, key: string, input?: Record<string, unknown>): Promise<Buffer>;
  list(bucket: string, options?: { prefix?: string }): Promise<_Object[]>;
  putBucketLifecycle(bucket: string, rules: LifecycleShortForm | unknown[] | { Rules: unknown[] }): Promise<unknown>;
  advanceClock(by: string): Promise<ClockState>;
  setClock(instant: Date | string): Promise<ClockState>;
  clock(): Promise<ClockState>;
  seed(doc: string | SeedDocument): Promise<unknown>;
  reset(): Promise<unknown>;
  presign(request: { method?: "GET" | "PUT"; bucket: string; key: string; expiresIn?: number }): Promise<string>;
  notifications(filters?: Record<string, string | number>): Promise<any[]>;
  requests(filters?: Record<string, string | number>): Promise<any[]>;
  adminPost(route: string, body?: unknown): Promise<any>;
  adminGet(route: string): Promise<any>;
  /** Drops the run; the last clone of the shared server stops it. */
  stop(): Promise<void>;
}

export declare const s3: {
  /** A new run on this process's shared s3twin server (started on first use). */
  start(options?: StartOptions): Promise<Clone>;
};

export declare function findBinary(): string;
export declare function platformTriple(): string;
/** Adds the destructive-call refusal to a client; returns it. */
export declare function refuseProduction<C extends { middlewareStack: any; config: any }>(
  client: C,
  options?: { allow?: boolean },
): C;
export declare function refusalMiddleware(config: unknown, options?: { allow?: boolean }): any;
export declare function looksLikeProductionKeys(credentials: unknown): boolean;
export declare class ProductionCallRefused extends Error {}
