import { MongoClient } from 'mongodb';

/**
 * Whether the server at `address` is a writable primary. `hello` needs no credentials, so the
 * drill holds no database password; one direct connection per question, closed after it.
 */
export async function isWritablePrimary(address: string): Promise<boolean> {
  const client = new MongoClient(`mongodb://${address}:27017/?directConnection=true`, {
    serverSelectionTimeoutMS: 3_000,
    connectTimeoutMS: 3_000,
  });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    return hello.isWritablePrimary === true;
  } catch {
    // Down, unreachable or not answering: not the primary, which is all the question asks.
    return false;
  } finally {
    await client.close();
  }
}
