/* dir_listing: an HTML index of a directory, only with --list-dirs. */
#ifndef DCN_DIR_LISTING_H
#define DCN_DIR_LISTING_H

struct request;

/* Responds with the listing of the open directory fd (taken over). */
void dir_listing_respond(struct request *r, int fd);

#endif
