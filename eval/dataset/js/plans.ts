// Join users with their billing accounts for the admin export (tens of thousands of each).

interface User {
  id: string;
  name: string;
}

interface Account {
  userId: string;
  plan: string;
}

export function withPlans(users: User[], accounts: Account[]) {
  return users.map((user) => {
    const account = accounts.find((a) => a.userId === user.id);
    return { ...user, plan: account ? account.plan : "free" };
  });
}
