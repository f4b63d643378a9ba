// Every e2e test boots the real app in-process; this keeps it quiet and fast.
process.env.NODE_ENV = 'test';
