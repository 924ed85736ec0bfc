/* ops: the operations endpoints under the reserved prefix /-/: liveness,
 * readiness, Prometheus metrics and a JSON status of the hosted refs. */
#ifndef DCN_OPS_H
#define DCN_OPS_H

struct request;

void ops_respond(struct request *r);

#endif
