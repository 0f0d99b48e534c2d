// Send the daily digest to every subscriber.

interface Subscriber {
  email: string;
  topics: string[];
}

export async function sendDigest(
  subscribers: Subscriber[],
  send: (to: string, body: string) => Promise<void>,
): Promise<number> {
  let sent = 0;
  subscribers.forEach(async (subscriber) => {
    await send(subscriber.email, `Your topics: ${subscriber.topics.join(", ")}`);
    sent += 1;
  });
  return sent;
}
