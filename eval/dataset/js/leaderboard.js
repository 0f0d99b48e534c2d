// Leaderboard helpers for the game lobby.

export function topScores(scores, count = 10) {
  const sorted = [...scores].sort().reverse();
  return sorted.slice(0, count);
}

export function rank(scores, score) {
  return topScores(scores, scores.length).indexOf(score) + 1;
}
