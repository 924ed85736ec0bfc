/* builder-core defines every symbol it uses: this program is linked with
 * every object of builder-core and builder-definition (whole archive), not
 * only the ones a test happens to pull in, so a function the library calls
 * but only dcn-builder's main.c defines fails its link. Building it is the
 * test (tests/builder.cmake: unit_builder_core_links). */
int main(void)
{
    return 0;
}
