/** The small part of autocannon's API the load process uses (the package ships no types). */
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    }
    interface Histogram {
      average: number;
      total: number;
      p50: number;
      p99: number;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      /** Total requests to send; the run ends when all are answered (overrides duration). */
      amount?: number;
      /** Seconds before an unanswered request counts as a timeout (default 10). */
      timeout?: number;
      pipelining?: number;
      overallRate?: number;
      requests?: Request[];
    }
    interface Result {
      requests: Histogram;
      latency: Histogram;
      non2xx: number;
      errors: number;
      timeouts: number;
      duration: number;
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
