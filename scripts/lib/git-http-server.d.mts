export interface GitHttpServer {
  url: string;
  requests: {
    method: string;
    path: string;
    service: string | null;
    authorised: boolean;
    sentAuth: boolean;
  }[];
  faults: {
    breakUploadPackAfter: number | null;
    failReceivePack: boolean;
    dropFetchEnd: boolean;
    resetRequests: number;
  };
  stats: { bytesIn: number; bytesOut: number; replayed: number; running: number };
  stop(): Promise<void>;
}
export function startGitHttpServer(options: {
  root: string;
  token?: string;
  link?: { bytesPerSecond: number; latencyMs: number };
  replayListings?: boolean;
}): Promise<GitHttpServer>;
