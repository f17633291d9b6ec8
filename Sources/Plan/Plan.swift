// Plan
