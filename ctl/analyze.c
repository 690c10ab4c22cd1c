/* placeholder */ typedef int sipas_placeholder_t;
