import amqp from 'amqplib';

/**
 * A stand-in for the course's original Go publisher, declaring and publishing exactly as it does:
 * one non-durable queue per company (durable=false, autoDelete=false, exclusive=false, no
 * arguments), a plain channel (no confirms), transient messages through the default exchange,
 * and the original JSON only: {"company","eventType","price"}. Used to test that
 * COMPANY_QUEUES_DURABLE=false lets such a program share our broker.
 */
export class OriginalPublisher {
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  private constructor(
    private readonly connection: amqp.ChannelModel,
    private readonly channel: amqp.Channel,
  ) {}

  /** Connects and declares the queues; rejects (as the original exits) when a declaration is refused. */
  static async start(url: string, companies: readonly string[]): Promise<OriginalPublisher> {
    const connection = await amqp.connect(url);
    try {
      const channel = await connection.createChannel();
      for (const company of companies) {
        await channel.assertQueue(company, { durable: false, autoDelete: false, exclusive: false });
      }
      return new OriginalPublisher(connection, channel);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  /** Publishes one trade per company every `intervalMs`, at `price(company)`. */
  publishEvery(intervalMs: number, companies: readonly string[], price: (company: string) => number): void {
    this.timer = setInterval(() => {
      for (const company of companies) {
        const trade = { company, eventType: this.sent % 2 === 0 ? 'buy' : 'sell', price: price(company) };
        // No `persistent`: transient, as the original sends.
        this.channel.sendToQueue(company, Buffer.from(JSON.stringify(trade)), { contentType: 'application/json' });
        this.sent++;
      }
    }, intervalMs);
  }

  get published(): number {
    return this.sent;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.connection.close();
  }
}
